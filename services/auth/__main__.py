from services.auth.server import run

run()
