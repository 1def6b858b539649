"""The machine's own limits: bare apps csirt's figures are compared against."""
