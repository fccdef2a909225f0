"""Use cases, one module per capability; each runs in one transaction."""

# Front ends hold the store only to hand it back to services and commands; naming it here
# lets them do so without importing the storage layer.
from govbot.storage.db import Store as Store
