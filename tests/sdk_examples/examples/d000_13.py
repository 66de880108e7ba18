# Training parameters
train_config = ace3.TrainingConfig(
    batch_size=32,
    learning_rate=1e-4,
    epochs=10,
    optimizer="adam",
    loss_function="cross_entropy",
    mixed_precision=True,
    gradient_checkpointing=True
)

# Start training
trainer.train(
    model=model,
    dataset=train_dataset,
    config=train_config,
    validation_dataset=val_dataset
)
