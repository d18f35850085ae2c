# Rules for the capacity stage (filled in by its issue).
