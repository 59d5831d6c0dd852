"""The REST API under /api/ (Django REST framework): thin views that call services and selectors."""
