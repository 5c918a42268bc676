"""The eight risk areas and the colours (PRODUCT.md, "The eight risk areas")."""

from django.db import models


class AreaCode(models.TextChoices):
    HABITS = "habits", "Habits"
    SENTIMENT = "sentiment", "Sentiment"
    COMPANY = "company", "Company"
    SUPPORT = "support", "Support"
    IMPLEMENTATION = "implementation", "Implementation"
    READINESS = "readiness", "Readiness"
    PRODUCT = "product", "Product"
    DEFECT = "defect", "Defect"


class Color(models.TextChoices):
    GREEN = "green", "Green"
    YELLOW = "yellow", "Yellow"
    RED = "red", "Red"
