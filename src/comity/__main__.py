from comity.cli.main import app

app()
