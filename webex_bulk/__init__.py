"""webex-bulk: provision Webex Calling for a whole tenant from one CSV file."""

__version__ = "0.1.0"
