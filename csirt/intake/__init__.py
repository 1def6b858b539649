"""The public intake: tips, whistleblower reports and the reporter's mailbox."""
