# The gateway image of docker-compose.yml: the repository on Python 3.11 with its
# pinned dependencies. One image serves the gateway, the migration and the pruner.
FROM python:3.11-slim

ENV PYTHONDONTWRITEBYTECODE=1 \
    PYTHONUNBUFFERED=1 \
    PIP_NO_CACHE_DIR=1 \
    PIP_DISABLE_PIP_VERSION_CHECK=1

WORKDIR /app

# Dependencies first, so that a change of code does not reinstall them. The project
# installs no package of its own (it runs from /app), only its dependencies.
COPY pyproject.toml ./
RUN pip install .

COPY . .
RUN python manage.py collectstatic --noinput --verbosity 0 \
    && useradd --system --uid 10001 --home-dir /app gateway \
    && mkdir -p /data/media /app/var \
    && chown -R gateway /data/media /app/var

USER gateway
ENV HOST=0.0.0.0 \
    PORT=8000
EXPOSE 8000
CMD ["python", "-m", "gateway.serve", "--workers", "1"]
