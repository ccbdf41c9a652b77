"""The command line: thin edges over the services."""
