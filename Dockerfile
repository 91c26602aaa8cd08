# One image for every Pacer process; docker-compose.yml picks the command per service.
FROM python:3.11-slim
WORKDIR /app
ENV PYTHONUNBUFFERED=1 PIP_DISABLE_PIP_VERSION_CHECK=1
COPY pyproject.toml README.md alembic.ini ./
COPY shared ./shared
COPY services ./services
COPY cli ./cli
COPY migrations ./migrations
RUN pip install --no-cache-dir .
RUN useradd --system --uid 10001 pacer
USER pacer
EXPOSE 8000 8001 8002 8003
CMD ["pacer", "--help"]
