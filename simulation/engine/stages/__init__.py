"""The two stage engines: event-driven (:mod:`.events`) and the Kiefer-Wolfowitz recursion
(:mod:`.fifo`)."""
