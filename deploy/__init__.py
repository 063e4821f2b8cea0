"""Build tooling: `make build` (deploy/build.py) makes the SAM artefact and proves it imports."""
