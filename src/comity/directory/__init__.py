"""The directory of participants: who they are, where they listen, their keys, roles, languages,
declarations and reservations, and which instruments bind them (Budapest 24(7), 27(2)(d), 35;
UNTOC 18(13): the registers must be correct at all times)."""
