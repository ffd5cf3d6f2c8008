# The worker image for compose.yaml (the project's own scripts run everything without Docker).
FROM python:3.11-slim
WORKDIR /app
COPY pyproject.toml README.md ./
COPY config config
COPY models models
COPY streams streams
COPY intake intake
COPY samples samples
COPY stores stores
COPY triage triage
COPY understand understand
COPY routing routing
COPY sla sla
COPY stack stack
COPY cli cli
COPY dead_letters dead_letters
RUN pip install --no-cache-dir .
ENV HOTLINE_WEB_PORT=6066
# installed (not editable), the package would look for these beside itself in site-packages:
# compose mounts ./artifacts at /app/artifacts
ENV HOTLINE_ARTIFACTS_DIR=/app/artifacts HOTLINE_STATE_DIR=/app/.state
CMD ["python", "-m", "streams", "worker", "-l", "info"]
