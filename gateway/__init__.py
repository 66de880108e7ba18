"""The meshserve REST gateway: documented dialects translated into canonical gRPC calls."""
