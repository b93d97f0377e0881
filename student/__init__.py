"""Stage two: deployable students distilled from the teacher (DAgger) and their export."""
