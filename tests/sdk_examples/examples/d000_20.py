# Image preprocessing
preprocessor = ace3.ImagePreprocessor(
    resize=(224, 224),
    normalize=True,
    mean=[0.485, 0.456, 0.406],
    std=[0.229, 0.224, 0.225]
)

processed_image = preprocessor(raw_image)

# Text preprocessing
text_processor = ace3.TextPreprocessor(
    tokenizer="bert-base-uncased",
    max_length=512,
    padding=True,
    truncation=True
)

processed_text = text_processor(raw_text)
