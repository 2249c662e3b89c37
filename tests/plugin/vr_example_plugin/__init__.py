"""An example vitalyst-render plugin."""
