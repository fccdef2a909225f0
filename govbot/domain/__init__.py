"""Pure governance rules: standard library only, no I/O."""
