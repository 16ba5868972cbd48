"""Dash web app: NOC wall, business, fleet, promotions and capacity pages."""
