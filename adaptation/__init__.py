"""Stage two, HORA/RMA style: an adaptation module regresses the teacher's latent z from proprioception."""
