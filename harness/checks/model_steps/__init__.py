"""The probe of the Model-level steps (`probe`) and their runner in the parent (`runner`), shared by the
api, timing and psnr groups."""
