# Rules for the models stage (filled in by its issue).
