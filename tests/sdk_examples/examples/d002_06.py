stream = client.completions.create(
    model="meta-llama/Llama-2-7b-chat-hf",
    prompt="Write a story about a robot:",
    stream=True
)

for chunk in stream:
    if chunk.choices[0].text:
        print(chunk.choices[0].text, end="")
