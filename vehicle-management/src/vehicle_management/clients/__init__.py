"""Small typed clients for the services vehicle-management calls."""
