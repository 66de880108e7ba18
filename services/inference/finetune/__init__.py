"""Fine-tuning of registered language models (document 003's ``finetune/create``): requests
validated before any work (:mod:`.spec`), a training process per run (:mod:`.worker`: LoRA with
peft, merged), and the runs' lifecycle, progress and registration (:mod:`.runs`)."""
