"""`keras.preprocessing.image`: Keras 3 keeps this older home of the image helpers (also in
`minikeras.utils`)."""

from minikeras.utils.image_utils import array_to_img, img_to_array, load_img, save_img

__all__ = ["array_to_img", "img_to_array", "load_img", "save_img"]
