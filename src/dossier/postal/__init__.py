"""Paper mail: NF Z10-011 address blocks (:mod:`.address`), the print job of a batch's
letters (:mod:`.printjob`), and the deposit of the registered letters (:mod:`.deposit`)."""
