from services.speech.server import run

run()
