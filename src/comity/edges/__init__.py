"""What every edge shares: the HTTP API's request dependencies (`http.py`) and the command
line's plumbing (`cli.py`). Features' `api.py` and `cli.py` import from here; the assemblies
(`transport/app.py`, `cli/main.py`) import the features. Nothing here imports a feature's edge."""
