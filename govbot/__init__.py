"""govbot: community governance for Discord and Slack, with an auditable record."""

__version__ = "0.1.0"
