response = client.completions.create(
    model="meta-llama/Llama-2-7b-chat-hf",
    prompt="The future of artificial intelligence is",
    max_tokens=100,
    temperature=0.7,
    top_p=0.9
)

print(response.choices[0].text)
