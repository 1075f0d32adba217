"""The production stack of docker-compose.yml run as processes on this machine (`make stack`).

Development tooling like sandbox/ and benchmarks/: it runs from the checkout, never in the image.
"""
