"""Plain-Python training code: no Django imports anywhere under this package."""
