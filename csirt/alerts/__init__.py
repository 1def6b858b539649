"""Machine alerts: raised by a SIEM/EDR through the API or fed from a shared mailbox, queued in
the console, merged into a case or opening one (their observables go with them)."""
