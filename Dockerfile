# Production image for csrisk: one image for web (gunicorn), Celery worker, Celery beat
# and the one-shot migrate job. See docs/operations.md.
FROM python:3.11-slim

# The app runs from /app: settings.BASE_DIR is the folder holding manage.py, and
# templates/ and static/ are read from there. PYTHONPATH keeps /app first on the import
# path so gunicorn, celery and manage.py all import that same source tree.
ENV PYTHONDONTWRITEBYTECODE=1 \
    PYTHONUNBUFFERED=1 \
    PIP_DISABLE_PIP_VERSION_CHECK=1 \
    PIP_ROOT_USER_ACTION=ignore \
    PYTHONPATH=/app

WORKDIR /app

RUN groupadd --gid 10001 app \
    && useradd --uid 10001 --gid app --no-create-home --home-dir /app \
       --shell /usr/sbin/nologin app

# Dependencies first, straight from pyproject.toml, so this layer is cached until the
# dependency list changes.
COPY pyproject.toml ./
RUN python -c "import tomllib; print('\n'.join(tomllib.load(open('pyproject.toml', 'rb'))['project']['dependencies']))" \
       > /tmp/requirements.txt \
    && pip install --no-cache-dir -r /tmp/requirements.txt \
    && rm /tmp/requirements.txt

# The source. An editable install registers the project with pip while the code is
# imported from /app itself (a plain `pip install .` would put a second copy in
# site-packages whose BASE_DIR has no templates/ or static/ next to it).
COPY . .
RUN pip install --no-cache-dir -e .

# Static files, collected at build time. These variables exist only for this step:
# settings refuse to start with DEBUG off and no real SECRET_KEY (50+ characters, not a
# placeholder). Nothing is written to the throwaway SQLite file.
RUN DEBUG=0 \
    SECRET_KEY=build-only-not-a-secret-collectstatic-0123456789abcdefghijklmnop \
    DATABASE_URL=sqlite:////tmp/build.sqlite3 \
    python manage.py collectstatic --noinput \
    && rm -f /tmp/build.sqlite3 \
    && mkdir -p /app/media /run/csrisk-metrics \
    && chown app:app /app/media /run/csrisk-metrics

USER app

EXPOSE 8000

# No gunicorn access log: the app logs one line per request itself (csrisk.logs), in JSON
# with its request id, naming the route rather than the path (a calendar feed's path is
# its key).
CMD ["sh", "-c", "exec gunicorn csrisk.wsgi:application --bind 0.0.0.0:8000 --workers ${WEB_CONCURRENCY:-2}"]
