"""The differential oracle: configurations over the whole forward space, compared with a
reference nanoBragg program."""
