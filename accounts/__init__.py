"""The book of business: customer accounts, contacts, imports."""
