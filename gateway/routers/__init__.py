"""The gateway's routes by audience: shoppers (the widget), agents (the dashboard), the demo
shop's catalog pages, and static files."""
