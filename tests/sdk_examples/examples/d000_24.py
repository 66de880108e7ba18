import logging

# Enable ACE3 logging
ace3.set_log_level("DEBUG")

# Use custom logger
logger = logging.getLogger("my_app")
ace3.set_logger(logger)
