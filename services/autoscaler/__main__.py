from services.autoscaler.server import run

run()
