"""Calls to other services, coded against their contracts in contracts/."""
