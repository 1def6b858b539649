"""The public follow-up page of recurrence-prevention measures, served by the intake interface
(no sign-in, no JavaScript): only texts a second lead approved."""
