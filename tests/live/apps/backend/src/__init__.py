"""Sample backend of the vitalyst-render live testbed."""
