"""dentops operational core: the system of record for appointments and payments."""
