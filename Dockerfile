# Rescue Portal: one image for the web, the workers and the cron (the command differs).
# Small (python slim, no compiler left behind) and not root. Settings come from the environment.
FROM python:3.11-slim AS build
ENV PIP_NO_CACHE_DIR=1 PIP_DISABLE_PIP_VERSION_CHECK=1
COPY requirements.txt /tmp/requirements.txt
RUN python -m venv /venv && /venv/bin/pip install -r /tmp/requirements.txt

FROM python:3.11-slim
ENV PATH=/venv/bin:$PATH PYTHONUNBUFFERED=1 PYTHONDONTWRITEBYTECODE=1 \
    PRODUCTION=true VAR_DIR=/var/lib/rescueportal
RUN useradd --system --uid 10001 --home /app portal && mkdir -p /var/lib/rescueportal \
    && chown portal /var/lib/rescueportal
COPY --from=build /venv /venv
COPY --chown=portal . /app
WORKDIR /app
USER portal
EXPOSE 8000
# The web server by default; compose runs the workers and the cron from the same image.
CMD ["gunicorn", "rescueportal.wsgi", "--bind", "0.0.0.0:8000", "--workers", "3", "--threads", "4", \
     "--graceful-timeout", "30", "--access-logfile", "-"]
