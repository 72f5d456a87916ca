"""Small clients for the services and providers this service calls."""
