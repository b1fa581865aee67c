# ews: API, web pages and scheduler in one image; `ews worker` runs the scheduler alone.
# The pages' JavaScript and map come from pinned npm packages, built in a stage of their own.
FROM node:20-slim AS assets
WORKDIR /src
COPY assets/package.json assets/package-lock.json assets/build.sh assets/americas.mjs assets/
RUN sh assets/build.sh /src/vendor

FROM python:3.11-slim

ENV PYTHONDONTWRITEBYTECODE=1 PYTHONUNBUFFERED=1 PIP_DISABLE_PIP_VERSION_CHECK=1 \
    EWS_CACHE_DIR=/var/cache/ews
# RDKit's wheel draws with Cairo and needs the X render libraries at run time;
# WeasyPrint (the dossier's PDF) lays out with Pango and HarfBuzz, in DejaVu fonts
RUN apt-get update -qq \
 && apt-get install -y -qq --no-install-recommends libxrender1 libxext6 \
      libpango-1.0-0 libpangoft2-1.0-0 libharfbuzz-subset0 fonts-dejavu-core \
 && rm -rf /var/lib/apt/lists/*
WORKDIR /app
COPY pyproject.toml README.md alembic.ini ./
COPY chem chem
COPY alerts alerts
COPY ews ews
COPY --from=assets /src/vendor ews/static/vendor
COPY migrations migrations
RUN pip install --no-cache-dir -e . \
 && useradd --system --uid 10001 ews \
 && mkdir -p /var/cache/ews && chown ews /var/cache/ews
USER ews
EXPOSE 8000
HEALTHCHECK --interval=30s --timeout=5s CMD python -c "import urllib.request; urllib.request.urlopen('http://127.0.0.1:8000/healthz')"
CMD ["ews", "serve", "--host", "0.0.0.0", "--port", "8000", "--workers", "2", "--no-scheduler"]
