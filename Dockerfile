# The nianbao image: Airflow 3 with the project installed, for every Airflow service
# of docker-compose.yml (api-server, scheduler, dag-processor, triggerer, Celery workers)
# and for running the CLI (`docker compose run --rm airflow-worker nianbao status`).
FROM python:3.11-slim-bookworm

ENV PYTHONDONTWRITEBYTECODE=1 \
    PYTHONUNBUFFERED=1 \
    PIP_NO_CACHE_DIR=1 \
    AIRFLOW_HOME=/opt/airflow \
    NIANBAO_HOME=/opt/nianbao

# libgomp1: onnxruntime (OCR); libgl1/libglib2.0-0: opencv (rapidocr); fonts for rendering CJK PDFs;
# LibreOffice Writer converts legacy DOC/WPS reports (extract/readers/office.py); curl: health checks;
# chromium loads the list pages of `render: true` sources (crawler/render.py, /usr/bin/chromium).
RUN apt-get update \
 && apt-get install -y --no-install-recommends libgomp1 libgl1 libglib2.0-0 fonts-noto-cjk tini curl \
        libreoffice-writer-nogui chromium \
 && rm -rf /var/lib/apt/lists/* \
 && useradd --create-home --uid 50000 --gid 0 airflow \
 && mkdir -p "$AIRFLOW_HOME" "$NIANBAO_HOME/var" \
 && chown -R airflow:0 "$AIRFLOW_HOME" "$NIANBAO_HOME"

WORKDIR $NIANBAO_HOME

# Dependencies first, from the lock file, so that a code change does not reinstall them.
COPY requirements.lock ./
RUN pip install uv \
 && uv pip install --system --no-cache -r requirements.lock

COPY pyproject.toml README.md alembic.ini scrapy.cfg ./
COPY report ./report
COPY extract ./extract
COPY crawler ./crawler
COPY warehouse ./warehouse
COPY nianbao ./nianbao
COPY sources ./sources
COPY dags ./dags
RUN uv pip install --system --no-cache --no-deps . \
 && chown -R airflow:0 "$NIANBAO_HOME"

USER airflow
ENV NIANBAO_DATA_DIR=/opt/nianbao/var \
    NIANBAO_SOURCES_DIR=/opt/nianbao/sources \
    AIRFLOW__CORE__DAGS_FOLDER=/opt/nianbao/dags

ENTRYPOINT ["/usr/bin/tini", "--"]
CMD ["airflow", "version"]
