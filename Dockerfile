FROM python:3.11-slim

ENV PYTHONDONTWRITEBYTECODE=1 PYTHONUNBUFFERED=1 PIP_NO_CACHE_DIR=1
WORKDIR /app
COPY requirements.txt .
RUN pip install -r requirements.txt
COPY . .
# collectstatic needs settings but no database; a throwaway key keeps the build reproducible.
RUN SECRET_KEY=build-only DEBUG=0 python manage.py collectstatic --noinput
RUN useradd --create-home planner && chown -R planner /app
USER planner
EXPOSE 8000
CMD ["gunicorn", "planner.wsgi:application", "--bind", "0.0.0.0:8000", "--workers", "3", "--timeout", "60"]
