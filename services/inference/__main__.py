from services.inference.server import run

run()
