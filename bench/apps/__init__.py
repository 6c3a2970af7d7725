"""The FastAPI apps ``bench/sdk_fastapi.py`` serves with uvicorn: the same two routes, guarded by each SDK."""
