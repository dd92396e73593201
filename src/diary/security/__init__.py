"""Flask-Security wiring: the datastore and hooks (:mod:`.wiring`) and the pluggable
classes Diary gives the library (:mod:`.mail_util`)."""
