from services.registry.server import run

run()
